"""Forge Remote trigger endpoints."""


def test_forge_scheduled_trigger_queues_due_work_once_per_period(client, forge_key):
    from tests.platform.signing import sign_rs256, system_fit_claims

    headers = {"Authorization": f"Bearer {sign_rs256(system_fit_claims('schedule-tick'), forge_key, 'forge-1')}"}
    first = client.post("/forge/scheduled", json={}, headers=headers)
    assert first.status_code == 202
    assert "outbox.drain" in first.get_json()["queued"]
    again = client.post("/forge/scheduled", json={}, headers=headers)
    assert again.get_json()["queued"] == []
