from django.db import connection

from secrets_admin.audit.checks import check_chain_lock


def test_the_configured_database_passes_the_chain_lock_check():
    assert check_chain_lock(databases=["default"]) == []


def test_sqlite_without_immediate_transactions_is_flagged(monkeypatch):
    if connection.vendor != "sqlite":
        assert check_chain_lock(databases=["default"]) == []  # PostgreSQL needs no option
        return
    options = {
        k: v for k, v in connection.settings_dict.get("OPTIONS", {}).items() if k != "transaction_mode"
    }
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", options)
    assert [e.id for e in check_chain_lock(databases=["default"])] == ["audit.W002"]
