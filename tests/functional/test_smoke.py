from tests.conftest import Browser
from tests.support.authenticator import SoftwareAuthenticator


def test_sign_up_sign_out_sign_in(browser: Browser, authenticator: SoftwareAuthenticator) -> None:
    response = browser.sign_up_with_passkey(authenticator)
    assert response.status_code == 200, response.get_json()
    assert browser.client.get("/account").status_code == 200
    assert browser.sign_out().status_code == 302
    assert browser.client.get("/account").status_code == 302
    response = browser.sign_in_with_passkey(authenticator)
    assert response.status_code == 200, response.get_json()
    assert "alice" in browser.client.get("/account").get_data(as_text=True)
