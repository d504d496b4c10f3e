"""Requests (заявки): filing with a photo, size and type limits, status history, staff status changes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.world import PNG, World

pytestmark = pytest.mark.db


def test_resident_files_a_request_with_a_photo_and_reads_it_back(client: TestClient, world: World) -> None:
    alice = world.auth("alice")
    r = client.post(
        "/api/v1/accounts/LS-1/requests",
        data={"category": "electrical", "text": "  Не работает свет в подъезде  "},
        files={"photo": ("lamp.png", PNG, "image/png")},
        headers=alice,
    )
    assert r.status_code == 201, r.text
    req = r.json()
    assert (req["category"], req["category_name"], req["status"], req["status_name"]) == (
        "electrical",
        "электрика",
        "new",
        "новая",
    )
    assert req["text"] == "Не работает свет в подъезде" and req["has_photo"] is True
    assert [h["status"] for h in req["history"]] == ["new"]
    photo = client.get(f"/api/v1/requests/{req['id']}/photo", headers=alice)
    assert photo.status_code == 200 and photo.content == PNG and photo.headers["content-type"] == "image/png"
    listed = client.get("/api/v1/accounts/LS-1/requests", headers=alice).json()
    assert listed[0]["id"] == req["id"]  # newest first
    assert all(x["account_no"] == "LS-1" for x in listed)


def test_request_without_photo(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/accounts/LS-1/requests",
        data={"category": "other", "text": "Вопрос"},
        headers=world.auth("alice"),
    )
    assert r.status_code == 201 and r.json()["has_photo"] is False
    assert (
        client.get(f"/api/v1/requests/{r.json()['id']}/photo", headers=world.auth("alice")).status_code == 404
    )


def test_photo_that_is_not_an_image_is_415_whatever_the_header_says(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/accounts/LS-1/requests",
        data={"category": "other", "text": "x"},
        files={"photo": ("evil.png", b"<script>alert(1)</script>", "image/png")},
        headers=world.auth("alice"),
    )
    assert r.status_code == 415
    assert "JPEG, PNG or WebP" in r.json()["detail"]


def test_photo_over_the_size_limit_is_413(client: TestClient, world: World, api_settings) -> None:
    big = PNG + b"\0" * api_settings.upload_max_bytes
    r = client.post(
        "/api/v1/accounts/LS-1/requests",
        data={"category": "other", "text": "x"},
        files={"photo": ("big.png", big, "image/png")},
        headers=world.auth("alice"),
    )
    assert r.status_code == 413


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"text": "x"}, "category"),
        ({"category": "aliens", "text": "x"}, "category"),
        ({"category": "other"}, "text"),
        ({"category": "other", "text": "x" * 4001}, "text"),
    ],
)
def test_request_validation_is_422_naming_the_field(client: TestClient, world: World, data, field) -> None:
    r = client.post("/api/v1/accounts/LS-1/requests", data=data, headers=world.auth("alice"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", field]


def test_blank_text_is_422(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/accounts/LS-1/requests",
        data={"category": "other", "text": "   "},
        headers=world.auth("alice"),
    )
    assert r.status_code == 422 and "empty" in r.json()["detail"]


def test_staff_change_status_and_resident_sees_the_history(client: TestClient, world: World) -> None:
    rid = world.requests["alice"]
    acc = world.auth("acc")
    r = client.patch(
        f"/api/v1/requests/{rid}",
        json={"status": "in_progress", "comment": "Мастер придёт завтра"},
        headers=acc,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status_name"] == "в работе"
    # a resident cannot change a status, not even of their own request
    assert (
        client.patch(
            f"/api/v1/requests/{rid}", json={"status": "done"}, headers=world.auth("alice")
        ).status_code
        == 403
    )
    assert (
        client.patch(
            f"/api/v1/requests/{rid}", json={"status": "done"}, headers=world.auth("eng")
        ).status_code
        == 403
    )
    done = client.patch(f"/api/v1/requests/{rid}", json={"status": "done"}, headers=world.auth("root"))
    assert done.status_code == 200
    seen = client.get(f"/api/v1/requests/{rid}", headers=world.auth("alice")).json()
    assert [(h["status"], h["comment"], h["changed_by"]) for h in seen["history"]] == [
        ("new", "", "alice"),
        ("in_progress", "Мастер придёт завтра", "acc"),
        ("done", "", "root"),
    ]


def test_disallowed_transitions_are_409_and_say_what_is_allowed(client: TestClient, world: World) -> None:
    rid = world.requests["carol"]
    acc = world.auth("acc")
    r = client.patch(f"/api/v1/requests/{rid}", json={"status": "rejected"}, headers=acc)
    assert r.status_code == 409 and "reason" in r.json()["detail"]
    assert (
        client.patch(
            f"/api/v1/requests/{rid}", json={"status": "rejected", "comment": "дубль"}, headers=acc
        ).status_code
        == 200
    )
    again = client.patch(f"/api/v1/requests/{rid}", json={"status": "done"}, headers=acc)
    assert again.status_code == 409 and "allowed: in_progress" in again.json()["detail"]
    bad = client.patch(f"/api/v1/requests/{rid}", json={"status": "lost"}, headers=acc)
    assert bad.status_code == 422


def test_staff_list_filters_by_status_and_building(client: TestClient, world: World) -> None:
    acc = world.auth("acc")
    b2 = client.get("/api/v1/requests", params={"building_id": "B2"}, headers=acc).json()
    assert {r["account_no"] for r in b2} == {"LS-9"}
    new = client.get("/api/v1/requests", params={"status": "new"}, headers=acc).json()
    assert all(r["status"] == "new" for r in new)
    assert client.get("/api/v1/requests", headers=world.auth("alice")).status_code == 403


def test_others_requests_are_404_for_residents(client: TestClient, world: World) -> None:
    rid = world.requests["bob"]
    assert client.get(f"/api/v1/requests/{rid}", headers=world.auth("alice")).status_code == 404
    assert client.get(f"/api/v1/requests/{rid}/photo", headers=world.auth("alice")).status_code == 404
    assert client.get(f"/api/v1/requests/{rid}", headers=world.auth("eng")).status_code == 403
    assert client.get("/api/v1/requests/999999", headers=world.auth("alice")).status_code == 404
    assert client.get("/api/v1/requests/0", headers=world.auth("alice")).status_code == 422
