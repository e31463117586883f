// billing_invoices: one row per Stripe invoice, written from invoice.* events.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/domain/invoice.h"

namespace paybell::db {

// Keyset position of ListInvoices: the last row of the previous page.
struct InvoiceCursor {
  int64_t created = 0;
  std::string invoice_id;
};

class InvoiceRepository {
 public:
  virtual ~InvoiceRepository() = default;
  virtual std::optional<domain::Invoice> Find(const std::string& invoice_id) = 0;
  // Writes the row unless the stored one comes from a newer event (by last_event_created, then
  // last_event_id): one conditional statement, so an older event never overwrites a newer
  // status. Returns whether the row was written.
  virtual bool UpsertIfNewer(const domain::Invoice& invoice) = 0;
  // The tenant's invoices newest first (created, then invoice_id, descending), after `after`.
  virtual std::vector<domain::Invoice> ListForTenant(const std::string& tenant_id,
                                                     const std::optional<InvoiceCursor>& after,
                                                     int limit) = 0;
};

}  // namespace paybell::db
