"""The synchronous calls checkout makes: catalog for prices and stock, logistics for the
delivery fee, crm for a saved address and a membership. Read live at the moment of ordering, not from a replica.

Any failure (refused connection, timeout, 5xx, a body we cannot read) is a 503 with the
service's code: checkout never hangs and never answers 500 because another service is down.
"""
from __future__ import annotations

import logging

import requests

from mall_shared.api import Unavailable

from .config import config

log = logging.getLogger(__name__)

TIMEOUT = (2, 5)  # connect, read (seconds)


def _get(service: str, url: str, **kwargs) -> requests.Response:
    try:
        response = requests.get(url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        log.warning("%s call failed: %r", service, exc)
        raise Unavailable(f"The {service} service is unavailable", code=f"{service}_unavailable") from exc
    if response.status_code >= 500:
        log.warning("%s answered %s for %s", service, response.status_code, url)
        raise Unavailable(f"The {service} service is unavailable", code=f"{service}_unavailable")
    return response


def _json(service: str, response: requests.Response):
    try:
        return response.json()
    except ValueError as exc:
        raise Unavailable(f"The {service} service gave an unreadable answer", code=f"{service}_unavailable") from exc


def fetch_skus(ids: list[str]) -> dict[str, dict]:
    """The SKUs catalog knows among `ids`, by id (unknown ids are simply absent)."""
    response = _get("catalog", f"{config().catalog_url}/api/catalog/skus", params={"ids": ",".join(ids)})
    body = _json("catalog", response)
    if response.status_code != 200 or not isinstance(body, list):
        log.warning("catalog answered %s: %.300s", response.status_code, response.text)
        raise Unavailable("The catalog service refused the price lookup", code="catalog_unavailable")
    return {sku["id"]: sku for sku in body if isinstance(sku, dict) and "id" in sku}


def _get_one(service: str, url: str, what: str, **kwargs) -> dict | None:
    """One resource as a dict, or None when the service has no such thing (404)."""
    response = _get(service, url, **kwargs)
    if response.status_code == 404:
        return None
    body = _json(service, response)
    if response.status_code != 200 or not isinstance(body, dict):
        log.warning("%s answered %s: %.300s", service, response.status_code, response.text)
        raise Unavailable(f"The {service} service refused the {what} lookup", code=f"{service}_unavailable")
    return body


def fetch_delivery_method(method_id: str) -> dict | None:
    """A delivery method with its fee, or None when logistics has no such method."""
    url = f"{config().logistics_url}/api/logistics/delivery-methods/{requests.utils.quote(method_id, safe='')}"
    return _get_one("logistics", url, "delivery method")


def fetch_address(address_id: str, authorization: str) -> dict | None:
    """One of the caller's saved addresses, read from crm with the caller's own token; None when
    crm has no such address in their book (another customer's reads the same)."""
    url = f"{config().crm_url}/api/crm/me/addresses/{requests.utils.quote(address_id, safe='')}"
    return _get_one("crm", url, "address", headers={"Authorization": authorization})


def fetch_membership(authorization: str) -> dict | None:
    """The caller's membership (tier, spendable `balance`, `version`), read from crm with the
    caller's own token; None when crm knows no such member."""
    return _get_one("crm", f"{config().crm_url}/api/crm/me/membership", "membership",
                    headers={"Authorization": authorization})
