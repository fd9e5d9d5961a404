#!/usr/bin/env python3
"""An independent implementation of Laju's backup object format, written for the tests
from its description: stored bytes = AES-256-GCM(gzip(db)) with a random 12-byte IV and
the 16-byte tag kept apart; metadata algo, iv (base64), tag (base64), comp, checksum (MD5
hex of the stored bytes). The key is Laju's: base64, hex or 32 UTF-8 characters.

Usage:
  laju_format.py encrypt KEY DB OBJECT        writes OBJECT, prints the metadata as JSON
  laju_format.py decrypt KEY OBJECT META OUT  Laju's restore: decipher with iv/tag from the
                                              metadata JSON file, gunzip, write OUT
  laju_format.py decipher KEY OBJECT META OUT check the checksum and decipher only: OUT holds
                                              the compressed stream (for zstd's own tool)
"""
import base64
import binascii
import gzip
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def parse_key(text):
    text = text.strip()
    try:
        raw = base64.b64decode(text, validate=True)
        if len(raw) == 32:
            return raw
    except binascii.Error:
        pass
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    raw = text.encode("utf-8")
    if len(raw) == 32:
        return raw
    raise SystemExit("bad key")


def encrypt(key, db_path, object_path):
    data = gzip.compress(open(db_path, "rb").read(), compresslevel=6)  # one member
    iv = os.urandom(12)
    sealed = AESGCM(key).encrypt(iv, data, None)
    ciphertext, tag = sealed[:-16], sealed[-16:]
    with open(object_path, "wb") as out:
        out.write(ciphertext)
    print(json.dumps({
        "algo": "aes-256-gcm",
        "iv": base64.b64encode(iv).decode(),
        "tag": base64.b64encode(tag).decode(),
        "comp": "gzip",
        "checksum": hashlib.md5(ciphertext).hexdigest(),
    }))


def decipher(key, object_path, meta_path):
    meta = json.load(open(meta_path))
    ciphertext = open(object_path, "rb").read()
    if hashlib.md5(ciphertext).hexdigest() != meta["checksum"]:
        raise SystemExit("checksum mismatch")
    return AESGCM(key).decrypt(base64.b64decode(meta["iv"]), ciphertext + base64.b64decode(meta["tag"]), None)


def decrypt(key, object_path, meta_path, out_path):
    plain = decipher(key, object_path, meta_path)
    with open(out_path, "wb") as out:
        out.write(gzip.decompress(plain))  # reads every member, as Node's createGunzip does


if __name__ == "__main__":
    command, key_text = sys.argv[1], sys.argv[2]
    key = parse_key(open(key_text).read() if os.path.isfile(key_text) else key_text)
    if command == "encrypt":
        encrypt(key, sys.argv[3], sys.argv[4])
    elif command == "decrypt":
        decrypt(key, sys.argv[3], sys.argv[4], sys.argv[5])
    elif command == "decipher":
        with open(sys.argv[5], "wb") as out:
            out.write(decipher(key, sys.argv[3], sys.argv[4]))
    else:
        raise SystemExit("unknown command " + command)
