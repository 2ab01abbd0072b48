// Resolves credentials from the container-credentials endpoint the environment names
// (AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN, as `awsso exec --server` sets
// them) with the AWS SDK for JavaScript v3: fromContainerMetadata, fromHttp, and the default Node chain an
// SDK client uses. Prints one JSON object {provider: credentials | {error, message}}.
// Driven by tests/python/test_server_clients.py.
import {
  fromContainerMetadata,
  fromHttp,
  fromNodeProviderChain,
} from "@aws-sdk/credential-providers";

const providers = { fromContainerMetadata, fromHttp, fromNodeProviderChain };
const out = {};
for (const [name, make] of Object.entries(providers)) {
  try {
    const c = await make()();
    out[name] = {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
      expiration: c.expiration?.toISOString(),
      accountId: c.accountId,
    };
  } catch (e) {
    out[name] = { error: e.name, message: e.message };
  }
}
console.log(JSON.stringify(out));
