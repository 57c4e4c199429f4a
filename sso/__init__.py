"""Single sign-on: companies sign their people in with their own OpenID Connect provider.

Layer: above ``accounts`` (teams, audit), below nothing; no other app imports it. The only module that speaks
to the provider is ``sso.client`` (through authlib).
"""
