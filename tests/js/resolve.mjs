// Resolves credentials with one provider of the AWS SDK for JavaScript v3, as an application would, and
// prints them (or the provider's error) as one JSON line: node resolve.mjs fromIni|fromProcess|fromSSO PROFILE
// Driven by tests/python/test_js_sdk.py in an isolated HOME / AWS_CONFIG_FILE.
import { fromIni, fromProcess, fromSSO } from "@aws-sdk/credential-providers";

const [which, profile] = process.argv.slice(2);
const providers = { fromIni, fromProcess, fromSSO };
if (!providers[which] || !profile) {
  console.error("usage: node resolve.mjs fromIni|fromProcess|fromSSO PROFILE");
  process.exit(2);
}
try {
  const c = await providers[which]({ profile })();
  console.log(JSON.stringify({
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    sessionToken: c.sessionToken,
    expiration: c.expiration?.toISOString(),
    accountId: c.accountId,
  }));
} catch (e) {
  console.log(JSON.stringify({ error: e.name, message: e.message }));
}
