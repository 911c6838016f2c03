// vomscheck: the libvomsapi oracle for the VOMS tests. It reads a proxy
// file, asks libvomsapi (the C++ API VOMS and LCMAPS use) to retrieve and
// verify its attribute certificates against a vomsdir and a CA directory,
// and prints one line per result:
//   OK <vo>            then one "FQAN <fqan>" line per FQAN, for each AC
//   FAIL <code> <message>
// Target checks are off: the tests pass their own host name to glexec.
// Usage: vomscheck VOMSDIR CERTDIR PROXYFILE
#include <cstdio>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <voms/voms_api.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: vomscheck VOMSDIR CERTDIR PROXYFILE\n");
    return 2;
  }
  BIO *in = BIO_new_file(argv[3], "r");
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", argv[3]);
    return 2;
  }
  STACK_OF(X509) *chain = sk_X509_new_null();
  X509 *leaf = NULL, *x;
  while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
    if (!leaf)
      leaf = x;
    sk_X509_push(chain, x);
  }
  if (!leaf) {
    std::fprintf(stderr, "no certificate in %s\n", argv[3]);
    return 2;
  }
  vomsdata vd(argv[1], argv[2]);
  vd.SetVerificationType((verify_type)(VERIFY_FULL & ~VERIFY_TARGET));
  if (!vd.Retrieve(leaf, chain, RECURSE_CHAIN)) {
    std::printf("FAIL %d %s\n", vd.error, vd.ErrorMessage().c_str());
    return 0;
  }
  for (size_t i = 0; i < vd.data.size(); i++) {
    std::printf("OK %s\n", vd.data[i].voname.c_str());
    for (size_t j = 0; j < vd.data[i].fqan.size(); j++)
      std::printf("FQAN %s\n", vd.data[i].fqan[j].c_str());
  }
  return 0;
}
