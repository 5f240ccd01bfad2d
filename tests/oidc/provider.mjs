// A real OpenID Connect provider for Steward's single sign-on tests: panva's certified
// oidc-provider with its development login and consent pages (any password is accepted;
// the login name is the account id). The accounts and their groups are read from the JSON
// file ACCOUNTS at every sign-in, so a test changes someone's groups by rewriting it.
//
//   PORT=… CLIENT_ID=… CLIENT_SECRET=… REDIRECT_URI=… [POST_LOGOUT_REDIRECT_URI=…]
//   [BACKCHANNEL_LOGOUT_URI=…]
//   ACCOUNTS=… node provider.mjs
//
// Prints "ready <issuer>" once it listens on 127.0.0.1. Test use only.
import fs from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = () => JSON.parse(fs.readFileSync(process.env.ACCOUNTS, 'utf8'));

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: [process.env.REDIRECT_URI],
      post_logout_redirect_uris: process.env.POST_LOGOUT_REDIRECT_URI
        ? [process.env.POST_LOGOUT_REDIRECT_URI]
        : [],
      // Back-channel logout: the provider POSTs a signed logout token here when the person
      // signs out at the provider; with the session required, ID tokens carry 'sid'.
      ...(process.env.BACKCHANNEL_LOGOUT_URI
        ? {
            backchannel_logout_uri: process.env.BACKCHANNEL_LOGOUT_URI,
            backchannel_logout_session_required: true,
          }
        : {}),
      grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    backchannelLogout: { enabled: true },
  },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // Put the scopes' claims in the ID token itself (Steward reads only the ID token).
  conformIdTokenClaims: false,
  cookies: { keys: ['steward-test-only-cookie-key'] },
  async findAccount(ctx, id) {
    const found = accounts()[id];
    if (!found) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...found }) };
  },
});

// A failed back-channel logout delivery shows in the test's output, not nowhere.
provider.on('backchannel.error', (ctx, err, client, accountId, sid) => {
  console.error(`backchannel logout to ${client.clientId} failed: ${err}`);
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
