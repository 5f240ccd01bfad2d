// A real OpenID Connect provider for Steward's single sign-on tests: panva's certified
// oidc-provider with its development login and consent pages (any password is accepted;
// the login name is the account id). The accounts and their groups are read from the JSON
// file ACCOUNTS at every sign-in, so a test changes someone's groups by rewriting it.
//
//   PORT=… CLIENT_ID=… CLIENT_SECRET=… REDIRECT_URI=… [POST_LOGOUT_REDIRECT_URI=…]
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
      grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
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

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
