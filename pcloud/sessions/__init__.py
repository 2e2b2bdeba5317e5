"""The session store: API tokens and browser sessions in one table, who is online, revoking.

It sits below `users`, `openplatform` and `auth` and imports none of them (only `core` and the
extensions): `auth` opens and reads sessions when signing in and loading the principal, `users` asks who
is online and revokes on a password or state change and on force offline, `openplatform` revokes an
account's tokens when it is disabled, frozen, reset or deleted.
"""
