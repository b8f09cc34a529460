"""Tests of breakwater/local/compat/dynamodb_atomic_writes.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from typing import Any
from unittest import mock

from botocore.exceptions import ClientError

from breakwater.executions import unique_name
from breakwater.local import compat


def _race_conditional_adds(embedded: Any, table: str, writers: int = 8, limit: int = 3) -> tuple[int, int]:
    """Many threads ADD 1 under ``n < limit``; a pause between check and write invites a race."""
    import threading

    from moto.dynamodb import models as ddb_models

    class SlowValidator(ddb_models.UpdateExpressionValidator):  # type: ignore[misc, name-defined]
        def validate(self) -> Any:
            threading.Event().wait(0.03)
            return super().validate()

    ddb = embedded.client("dynamodb")
    ddb.put_item(TableName=table, Item={"k": {"S": "x"}, "n": {"N": "0"}})
    won: list[bool] = []

    def add() -> None:
        try:
            ddb.update_item(
                TableName=table,
                Key={"k": {"S": "x"}},
                UpdateExpression="ADD n :one",
                ConditionExpression="n < :limit",
                ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(limit)}},
            )
            won.append(True)
        except ClientError:
            won.append(False)

    with mock.patch.object(ddb_models, "UpdateExpressionValidator", SlowValidator):
        threads = [threading.Thread(target=add) for _ in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    final = int(ddb.get_item(TableName=table, Key={"k": {"S": "x"}})["Item"]["n"]["N"])
    return sum(won), final


def _table(embedded: Any) -> str:
    name = unique_name("race")
    embedded.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def test_conditional_writes_are_atomic_under_concurrency(embedded):
    assert _race_conditional_adds(embedded, _table(embedded)) == (3, 3)


def test_without_the_lock_concurrent_conditional_writes_overshoot(embedded):
    table = _table(embedded)
    with compat.disabled("dynamodb_atomic_writes"):
        won, final = _race_conditional_adds(embedded, table)

    assert won > 3
    assert final == won
