#!/bin/sh
# A throwaway CA and a server certificate for 127.0.0.1, ::1 and localhost, valid for two days,
# for the local TLS peers of the tests (SMTP with STARTTLS, the Slack stand-in).
#   make_ca.sh DIR   writes DIR/ca.pem (trust this: PAYBELL_CA_FILE), DIR/server.pem and
#                    DIR/server.key (the peers' certificate and key); DIR/ca.key stays there too.
set -eu
dir=${1:?usage: make_ca.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout ca.key -out ca.pem -subj "/CN=Paybell throwaway test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
cat > server.ext <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost
authorityKeyIdentifier=keyid
subjectKeyIdentifier=hash
EXT
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext ca.srl
chmod 644 ca.pem server.pem
echo "$dir/ca.pem"
