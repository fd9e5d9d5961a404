// OpenSSL's libcrypto for Swift: EVP ciphers and digests, HMAC, random bytes.
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
