#include "rest_adapter/http_status.h"

#include <gtest/gtest.h>

namespace paybell::rest {
namespace {

TEST(HttpStatusTest, DesignTable) {
  EXPECT_EQ(HttpStatusFromGrpc(grpc::StatusCode::OK), 200);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::StatusCode::INVALID_ARGUMENT), 400);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::StatusCode::UNAUTHENTICATED), 401);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::StatusCode::PERMISSION_DENIED), 403);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::StatusCode::NOT_FOUND), 404);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::StatusCode::FAILED_PRECONDITION), 409);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::StatusCode::ALREADY_EXISTS), 409);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::StatusCode::RESOURCE_EXHAUSTED), 429);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::StatusCode::UNAVAILABLE), 503);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::StatusCode::INTERNAL), 500);
}

}  // namespace
}  // namespace paybell::rest
