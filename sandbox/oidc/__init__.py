"""The sandbox's OpenID Connect provider: discovery, JWKS, authorize (a test-person picker) and token.

It lets the portal's single sign-on run its whole authorization-code flow (PKCE S256, signed ID tokens, nonce)
against a local provider, for the demo and the tests. README, "Single sign-on", describes it.
"""
