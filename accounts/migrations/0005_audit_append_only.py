"""Makes the audit table append-only in the database itself: UPDATE, DELETE and TRUNCATE are refused.

PostgreSQL: a row trigger (BEFORE UPDATE OR DELETE) and a statement trigger (BEFORE TRUNCATE) raise an
exception, and UPDATE, DELETE and TRUNCATE are revoked from PUBLIC, from the table's owner and from every role
holding them, as far as the migrating role may revoke. The privileges alone would not hold: the portal
migrates with its own role, which therefore owns the table and could grant them back (and a superuser, as in
the docker-compose default, ignores privileges altogether). The triggers hold for the owner and superusers too,
unless one deliberately disables them, which ``manage.py audit_verify`` reports. SQLite: the same with two
triggers that RAISE(ABORT); with a trigger on the table, ``DELETE FROM`` cannot take SQLite's truncate shortcut.

SQLite loses a table's triggers when Django rebuilds the table for a schema change: a later migration that
alters ``AuditEvent`` must create them again (``audit_verify`` and tests/accounts/test_audit_append_only.py
notice when they are missing).
"""

from django.db import migrations

TABLE = "accounts_auditevent"
MESSAGE = "the audit trail is append-only"

POSTGRESQL_GUARD = [
    f"""
    CREATE FUNCTION accounts_auditevent_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}: % refused on %', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    f"""
    CREATE TRIGGER accounts_auditevent_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION accounts_auditevent_refuse_change()
    """,
    f"""
    CREATE TRIGGER accounts_auditevent_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_auditevent_refuse_change()
    """,
    # Revoking what one does not hold is a warning, not an error: "where it can".
    f"""
    DO $$
    DECLARE
        holder text;
    BEGIN
        FOR holder IN
            SELECT DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END
            FROM pg_class, aclexplode(coalesce(relacl, acldefault('r', relowner))) AS acl
            WHERE pg_class.oid = '{TABLE}'::regclass AND acl.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
        LOOP
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON TABLE {TABLE} FROM %s', holder);
        END LOOP;
    END
    $$
    """,
]
POSTGRESQL_UNGUARD = [
    f"GRANT UPDATE, DELETE, TRUNCATE ON TABLE {TABLE} TO CURRENT_USER",
    f"DROP TRIGGER accounts_auditevent_no_truncate ON {TABLE}",
    f"DROP TRIGGER accounts_auditevent_append_only ON {TABLE}",
    "DROP FUNCTION accounts_auditevent_refuse_change()",
]
SQLITE_GUARD = [
    f"""
    CREATE TRIGGER accounts_auditevent_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}: UPDATE refused'); END
    """,
    f"""
    CREATE TRIGGER accounts_auditevent_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE refused'); END
    """,
]
SQLITE_UNGUARD = [
    "DROP TRIGGER accounts_auditevent_no_update",
    "DROP TRIGGER accounts_auditevent_no_delete",
]


def _run(schema_editor, statements: dict[str, list[str]]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise RuntimeError(f"No append-only guard for the {vendor} database; the portal supports PostgreSQL and SQLite")
    for statement in statements[vendor]:
        schema_editor.execute(statement, params=None)


def guard(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_GUARD, "sqlite": SQLITE_GUARD})


def unguard(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_UNGUARD, "sqlite": SQLITE_UNGUARD})


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_audit_chain_backfill"),
    ]

    operations = [
        migrations.RunPython(guard, unguard),
    ]
