// Laju's restore.ts logic, written for the tests from its description: Node's
// createDecipheriv('aes-256-gcm') with iv and tag from the object's metadata, then
// createGunzip, streamed to a file.
//
// Usage: node laju_restore.mjs KEY_FILE OBJECT META_JSON OUT
import { createDecipheriv, createHash } from "node:crypto";
import { createReadStream, createWriteStream, readFileSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";

const [keyFile, objectPath, metaPath, outPath] = process.argv.slice(2);

function parseKey(text) {
  text = text.trim();
  const b64 = Buffer.from(text, "base64");
  if (b64.length === 32 && /^[A-Za-z0-9+/=]+$/.test(text)) return b64;
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, "hex");
  const utf8 = Buffer.from(text, "utf8");
  if (utf8.length === 32) return utf8;
  throw new Error("bad key");
}

const key = parseKey(readFileSync(keyFile, "utf8"));
const meta = JSON.parse(readFileSync(metaPath, "utf8"));
const md5 = createHash("md5").update(readFileSync(objectPath)).digest("hex");
if (md5 !== meta.checksum) throw new Error("checksum mismatch");
const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(meta.iv, "base64"));
decipher.setAuthTag(Buffer.from(meta.tag, "base64"));
await pipeline(createReadStream(objectPath), decipher, createGunzip(), createWriteStream(outPath));
