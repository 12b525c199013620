# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client against the emulator: auth, headers, paging, $batch, errors, retries, secrets."""

import logging
import time
import uuid

import pytest

from ansible_collections.m365.exchange.plugins.module_utils import _errors as errors
from ansible_collections.m365.exchange.plugins.module_utils._client import (
    Command,
    ExchangeOnlineClient,
    RetryPolicy,
)
from ansible_collections.m365.exchange.plugins.module_utils._connection import ConnectionSettings
from ansible_collections.m365.exchange.plugins.module_utils._pipeline import Pipeline

SELECT = ("Identity", "PrimarySmtpAddress", "RecipientTypeDetails", "Guid")


def domain(emu):
    return emu.connection["tenant"]


def test_secret_auth_reads_every_page_of_2600_mailboxes(emu, client):
    expected = emu.state(domain(emu))["recipients"]
    result = client.invoke("Get-Mailbox", {"ResultSize": "Unlimited"}, SELECT)
    guids = [row["Guid"] for row in result.value]
    assert len(guids) > 2500
    assert len(set(guids)) == len(guids)
    assert set(guids) <= set(r["guid"] for r in expected)
    assert emu.counters()["pages_served"] >= 3
    assert result.warnings == []  # "more results available" is noise once every page is read
    assert all(set(row) == set(SELECT) for row in result.value)


def test_requests_carry_the_v3_module_headers(emu, client):
    client.invoke("Get-Mailbox", {"Identity": "archive.admin@" + domain(emu)}, SELECT)
    logged = [entry for entry in emu.requests(20) if entry.get("cmdlet") == "Get-Mailbox"][-1]
    headers = dict((key.lower(), value) for key, value in logged["headers"].items())
    assert headers["x-anchormailbox"] == "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@" + domain(emu)
    assert headers["x-cmdletname"] == "Get-Mailbox"
    assert headers["prefer"] == "odata.maxpagesize=1000"
    assert headers["x-responseformat"] == "json"
    uuid.UUID(headers["client-request-id"])
    assert headers["authorization"].startswith("Bearer") and "eyJ" not in headers["authorization"]


@pytest.mark.parametrize("certificate", ["certificate_path", "certificate_pfx_path", "certificate_encrypted_path"])
def test_certificate_auth(emu, client_factory, certificate):
    connection = emu.connection
    client = client_factory(client_secret=None, certificate_path=connection[certificate],
                            certificate_password=None if certificate == "certificate_path"
                            else connection["certificate_password"])
    rows = client.invoke("Get-Mailbox", {"Identity": "archive.admin@" + domain(emu)}, SELECT).value
    assert rows[0]["PrimarySmtpAddress"] == "archive.admin@" + domain(emu)
    assert emu.counters()["tokens_issued"] == 1


def test_one_token_per_client_renewed_before_expiry(emu, client):
    emu.set_faults(token_lifetime=2)
    for _attempt in range(3):
        client.invoke("Get-Mailbox", {"Identity": "helpdesk@" + domain(emu)}, SELECT)
    assert emu.counters()["tokens_issued"] == 1
    time.sleep(2.1)
    client.invoke("Get-Mailbox", {"Identity": "helpdesk@" + domain(emu)}, SELECT)
    assert emu.counters()["tokens_issued"] == 2
    assert not [entry for entry in emu.requests(50) if entry.get("status") == 401]


@pytest.mark.parametrize("fault, status", [("error", 503), ("throttle", 429), ("reset", 0)])
def test_token_endpoint_failures_are_retried(emu, client, fault, status):
    emu.add_fault_rule(match={"endpoint": "token"}, fault=fault, status=status or 503, retry_after="0.2", times=2)
    assert client.invoke("Get-Mailbox", {"Identity": "helpdesk@" + domain(emu)}, SELECT).value
    counters = emu.counters()
    assert counters["tokens_issued"] == 1
    assert counters["token_requests"] == 1  # the two faulted attempts never reached the token handler


def test_a_token_endpoint_that_stays_down_fails_clearly(emu, client_factory):
    emu.add_fault_rule(match={"endpoint": "token"}, fault="reset", times=10)
    with pytest.raises(errors.TransientError) as caught:
        client_factory().invoke("Get-Mailbox", {"Identity": "helpdesk@" + domain(emu)})
    message = str(caught.value)
    assert "Cannot reach the Entra ID authority https://127.0.0.1:" in message
    assert message.count("(") == message.count(")") and ".." not in message and '"' not in message


def test_a_401_renews_the_token_once(emu, client):
    client.invoke("Get-Mailbox", {"Identity": "helpdesk@" + domain(emu)}, SELECT)
    emu.add_fault_rule(match={"endpoint": "invoke"}, fault="error", status=401, times=1)
    rows = client.invoke("Get-Mailbox", {"Identity": "helpdesk@" + domain(emu)}, SELECT).value
    assert len(rows) == 1
    assert client.stats.token_renewals == 1
    assert emu.counters()["tokens_issued"] == 2


def test_batch_runs_many_commands_in_order(emu, client):
    identities = ["info@", "support@", "ceo@", "helpdesk@", "archive.admin@"] * 5
    commands = [Command("Get-Mailbox", {"Identity": i + domain(emu)}, SELECT) for i in identities]
    results = Pipeline(client, concurrency=10).run(commands)
    assert [r.value[0]["PrimarySmtpAddress"] for r in results] == [i + domain(emu) for i in identities]
    counters = emu.counters()
    assert counters["cmdlets"]["Get-Mailbox"] == 25
    assert 3 <= counters["batch_requests"] <= 25  # small batches, about BATCH_LANES in flight (see _pipeline)
    assert client.stats.batch_requests == counters["batch_requests"]


def test_batch_results_follow_pages_of_a_sub_request(emu, client):
    command = Command("Get-Mailbox", {"ResultSize": "Unlimited"}, SELECT)
    (result,) = Pipeline(client).run([command])
    assert len(result.value) == len(client.invoke("Get-Mailbox", {"ResultSize": "Unlimited"}, SELECT).value)


@pytest.mark.parametrize("cmdlet, parameters, error_class, words", [
    ("Get-Mailbox", {"Identity": "nobody@{domain}"}, errors.NotFoundError, ["nobody@", "couldn't be found"]),
    ("Get-Mailbox", {"Identity": "jsmith"}, errors.AmbiguousIdentityError, ["jsmith", "multiple"]),
    ("Add-MailboxPermission", {"Identity": "info@{domain}", "User": "helpdesk@{domain}", "AccessRights": ["Bogus"]},
     errors.InvalidParameterError, ["Bogus", "FullAccess"]),
    ("Get-Mailbox", {"Identity": "info@{domain}", "Colour": "blue"}, errors.InvalidParameterError, ["Colour"]),
    ("Add-MailboxPermission", {"Identity": "full.acl@{domain}", "User": "helpdesk@{domain}",
                               "AccessRights": ["FullAccess"]}, errors.AclLimitError, ["500", "full.acl"]),
    ("Get-Mailbox", {"Filter": "Department -eq"}, errors.InvalidParameterError, ["filter"]),
    ("Set-CASMailbox", {"Identity": "info@{domain}"}, errors.AuthorizationError, ["HTTP 403", "unknown cmdlet"]),
])
def test_service_errors_become_typed_errors(emu, client, cmdlet, parameters, error_class, words):
    parameters = dict((k, v.format(domain=domain(emu)) if isinstance(v, str) else v) for k, v in parameters.items())
    with pytest.raises(error_class) as caught:
        client.invoke(cmdlet, parameters)
    for word in words:
        assert word.lower() in str(caught.value).lower()


@pytest.mark.parametrize("app, error_class, words", [
    ("no_app_role", errors.AuthenticationError, ["HTTP 401", "Exchange.ManageAsApp"]),
    ("no_exchange_role", errors.AuthorizationError, ["HTTP 403", "no Exchange role"]),
])
def test_app_without_permission_or_role(emu, app_client, app, error_class, words):
    client = app_client(app)
    with pytest.raises(error_class) as caught:
        client.invoke("Get-Mailbox", {"Identity": "info@" + domain(emu)})
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize("overrides, words", [
    ({"client_secret": "wrong-secret"}, ["AADSTS7000215", "client_secret"]),
    ({"client_id": "00000000-0000-0000-0000-000000000001"}, ["AADSTS700016", "client_id"]),
    ({"tenant": "nowhere.onmicrosoft.com"}, ["nowhere.onmicrosoft.com"]),
    ({"environment": "O365China"}, ["environment"]),
])
def test_entra_refusals_name_the_fix(emu, client_factory, overrides, words):
    client = client_factory(**overrides)
    with pytest.raises(errors.AuthenticationError) as caught:
        client.invoke("Get-Mailbox", {"Identity": "info@" + domain(emu)})
    for word in words:
        assert word in str(caught.value)
    assert ".." not in str(caught.value)  # msal's own sentences end with a period; ours follow them


def test_expired_certificate_is_refused_before_any_request(emu, client_factory):
    record = emu.connection["apps"]["expired_certificate"]
    client = client_factory(client_id=record["client_id"], client_secret=None,
                            certificate_path=record["certificate_path"])
    with pytest.raises(errors.ConfigurationError) as caught:
        client.invoke("Get-Mailbox", {"Identity": "info@" + domain(emu)})
    assert "expired" in str(caught.value)
    assert emu.counters()["token_requests"] == 0


def test_ca_path_wins_over_requests_ca_bundle(emu, client_factory, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    client = client_factory()
    assert client.invoke("Get-Mailbox", {"Identity": "info@" + domain(emu)}, SELECT).value


def test_without_the_emulator_ca_tls_verification_fails_clearly(emu, client_factory, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    client = client_factory(ca_path=None)
    with pytest.raises(errors.ConfigurationError) as caught:
        client.invoke("Get-Mailbox", {"Identity": "info@" + domain(emu)})
    message = str(caught.value)
    assert "ca_path" in message and "certificate verify failed" in message
    assert message.count("(") == message.count(")") and "')" not in message


def test_unreachable_api_is_a_clear_transient_error(emu, client_factory):
    client = client_factory(api_url="https://127.0.0.1:9")
    with pytest.raises(errors.TransientError) as caught:
        client.invoke("Get-Mailbox", {"Identity": "info@" + domain(emu)})
    assert "cannot reach https://127.0.0.1:9" in str(caught.value)


def test_throttling_honours_retry_after(emu, client):
    emu.add_fault_rule(match={"cmdlet": "Get-Mailbox"}, fault="throttle", retry_after="0.3", times=2)
    started = time.monotonic()
    rows = client.invoke("Get-Mailbox", {"Identity": "info@" + domain(emu)}, SELECT).value
    assert time.monotonic() - started >= 0.6
    assert rows and client.stats.throttled == 2


def test_throttling_beyond_the_budget_fails(emu, client):
    emu.set_faults(throttle_rate=1.0, throttle_retry_after="0.01")
    with pytest.raises(errors.ThrottledError):
        client.invoke("Get-Mailbox", {"Identity": "info@" + domain(emu)})
    assert client.stats.throttled == 7


@pytest.mark.parametrize("fault", ["error", "reset"])
def test_server_errors_and_resets_are_retried(emu, client, fault):
    emu.add_fault_rule(match={"cmdlet": "Get-Mailbox"}, fault=fault, times=2)
    assert client.invoke("Get-Mailbox", {"Identity": "info@" + domain(emu)}, SELECT).value
    assert client.stats.retries == 2


def test_persistent_server_errors_fail_after_the_attempts(emu, client):
    emu.set_faults(error_rate=1.0)
    with pytest.raises(errors.TransientError) as caught:
        client.invoke("Get-Mailbox", {"Identity": "info@" + domain(emu)})
    assert "after every retry" in str(caught.value)
    assert client.stats.http_requests == 4


def test_a_retry_safe_write_survives_a_reset_after_the_server_applied_it(emu, client):
    emu.add_fault_rule(match={"cmdlet": "Add-MailboxPermission"}, fault="reset_after_write", times=1)
    result = client.invoke("Add-MailboxPermission", {"Identity": "info@" + domain(emu), "User": "helpdesk@" + domain(emu),
                                                     "AccessRights": ["FullAccess"]})
    assert any("already present" in warning for warning in result.warnings)
    aces = emu.permissions(None, "info@" + domain(emu))["aces"]
    assert [a for a in aces if a["trustee"] == "helpdesk@" + domain(emu) and "FullAccess" in a["access_rights"]]


def test_a_write_not_marked_retry_safe_is_not_resent(emu, client):
    emu.add_fault_rule(match={"cmdlet": "Add-MailboxPermission"}, fault="reset_after_write", times=1)
    command = Command("Add-MailboxPermission", {"Identity": "info@" + domain(emu), "User": "helpdesk@" + domain(emu),
                                                "AccessRights": ["FullAccess"]}, retry_safe=False)
    with pytest.raises(errors.TransientError) as caught:
        client.execute(command)
    assert "may or may not have run it" in str(caught.value)
    assert emu.counters()["cmdlets"]["Add-MailboxPermission"] == 1


def test_an_expired_page_link_restarts_the_read(emu, client):
    complete = client.invoke("Get-Mailbox", {"ResultSize": "Unlimited"}, SELECT).value
    emu.add_fault_rule(fault="expire_page", times=1)
    assert client.invoke("Get-Mailbox", {"ResultSize": "Unlimited"}, SELECT).value == complete


def test_page_links_that_keep_expiring_fail_clearly(emu, client):
    emu.add_fault_rule(fault="expire_page", times=2)
    with pytest.raises(errors.PagingExpiredError) as caught:
        client.invoke("Get-Mailbox", {"ResultSize": "Unlimited"}, SELECT)
    assert "run the task again" in str(caught.value)


def test_concurrency_cap_is_found_without_losing_commands(emu, client):
    emu.set_faults(concurrency_limit=3, concurrency_retry_after="0.05", latency_ms=20)
    mailboxes = client.invoke("Get-Mailbox", {"ResultSize": 60}, SELECT).value
    emu.reset_counters()
    commands = [Command("Get-MailboxPermission", {"Identity": row["Guid"]}) for row in mailboxes]
    results = Pipeline(client, concurrency=12).run(commands)
    assert all(not isinstance(r, Exception) for r in results)
    counters = emu.counters()
    assert counters["cmdlets"]["Get-MailboxPermission"] == 60
    assert counters["max_concurrency_seen"] <= 3
    assert counters["throttled"] > 0 and client.stats.throttled == counters["throttled"]


def test_fatal_errors_stop_a_pipeline_early(emu, app_client):
    client = app_client("no_exchange_role")
    commands = [Command("Get-Mailbox", {"Identity": "user%05d@%s" % (i, domain(emu))}) for i in range(200)]
    results = Pipeline(client, concurrency=4).run(commands)
    assert all(isinstance(r, (errors.AuthorizationError, errors.NotAttemptedError)) for r in results)
    assert emu.counters()["http_requests"] < 20


def test_no_secret_or_token_in_errors_or_logs(emu, client_factory, app_client, caplog):
    caplog.set_level(logging.DEBUG)
    connection = emu.connection
    client = client_factory()
    token = client._tokens.token()  # pylint: disable=protected-access
    texts = []
    failing = [
        (client, Command("Get-Mailbox", {"Identity": "nobody@" + domain(emu)})),
        (client_factory(client_secret="wrong-secret-value"), Command("Get-Mailbox", {"Identity": "info"})),
        (app_client("no_app_role"), Command("Get-Mailbox", {"Identity": "info"})),
        (client_factory(client_secret=None, certificate_path=connection["certificate_pfx_path"],
                        certificate_password="not-the-password"), Command("Get-Mailbox", {"Identity": "info"})),
    ]
    for failing_client, command in failing:
        with pytest.raises(errors.ExchangeError) as caught:
            failing_client.execute(command)
        texts += [str(caught.value), repr(caught.value), str(caught.value.to_dict())]
    texts.append(caplog.text)
    texts.append(repr(client.settings))
    everything = "\n".join(texts)
    for secret in (connection["client_secret"], token, connection["certificate_password"], "wrong-secret-value",
                   "not-the-password"):
        assert secret not in everything


def test_a_next_link_to_another_host_is_refused(client):
    command = Command("Get-Mailbox", {"ResultSize": "Unlimited"})
    with pytest.raises(errors.ExchangeError) as caught:
        list(client.iter_pages(command, "https://attacker.example/adminapi/beta/x/InvokeCommand?%24skiptoken=1"))
    assert "refusing to send the token" in str(caught.value)


def test_retry_policy_is_bounded_by_time():
    state = RetryPolicy(max_attempts=100, max_elapsed=1.0, base_delay=0.4, max_delay=0.4).start()
    assert state.after_throttle(5.0) is None
    assert state.after_failure() is not None


def test_settings_repr_has_no_secret():
    settings = ConnectionSettings.from_params(dict(tenant="contoso.onmicrosoft.com", client_id=str(uuid.uuid4()),
                                                   client_secret="very-secret-value"))
    assert "very-secret-value" not in repr(settings)
    assert "very-secret-value" not in repr(ExchangeOnlineClient(settings).settings)


def test_refused_next_links_fall_back_to_one_unpaged_response(emu, client):
    emu.set_faults(nextlink_broken=True, default_page_size=0)
    result = client.invoke("Get-Mailbox", {"ResultSize": "Unlimited"}, SELECT)
    assert len(result.value) > 2500
    assert result.warnings == []


def test_refused_next_links_never_return_a_partial_list(emu, client):
    emu.set_faults(nextlink_broken=True, default_page_size=1000)
    with pytest.raises(errors.PagingExpiredError):
        client.invoke("Get-Mailbox", {"ResultSize": "Unlimited"}, SELECT)
