"""The dealer sees "delivery delayed" from the first failed attempt, not ~10 minutes later.

Before: `sent` with `email_failed: false` for ~6.5 min while the email kept failing. Real
worker on the time-skipping server, a real SMTP sink stopped then started again.
"""

from __future__ import annotations

from datetime import timedelta

from support import eventually

URL = "/api/v1/proposals"


async def test_a_failing_email_is_visible_at_once_and_clears_when_it_goes_out(
    client, dealers, new_body, worker, sink, temporal_env
) -> None:
    sink.stop()
    created = await client.post(URL, json=new_body(send=True), headers=dealers.a.headers)
    assert created.status_code == 201, created.text
    proposal_id = created.json()["id"]

    async def detail() -> dict:
        return (await client.get(f"{URL}/{proposal_id}", headers=dealers.a.headers)).json()

    delayed = await eventually(detail, lambda d: d["email_delayed"])
    assert delayed["email_failed"] is False  # the retry budget is not spent yet
    assert delayed["state"] == "sent"
    assert "refused connection" in delayed["email_delay_reason"]
    assert delayed["email_delayed_since"] is not None
    listed = (await client.get(URL, headers=dealers.a.headers)).json()["items"]
    assert [item["email_delayed"] for item in listed] == [True]

    sink.start()
    await temporal_env.sleep(timedelta(minutes=1))  # the activity's next retry comes
    cleared = await eventually(detail, lambda d: not d["email_delayed"])
    assert cleared["email_delay_reason"] is None and cleared["email_failed"] is False
    await eventually(lambda: _mailed(sink))


async def _mailed(sink) -> bool:  # noqa: ANN001
    return "jeanne.dupont@example.com" in sink.recipients()
