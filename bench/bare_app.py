"""The bare stack that bench/api.py compares coenforce with: Flask and
SQLAlchemy on the same database, no auth, no checks, no escalation.

GET /complaints?limit=N returns N complaint rows (every column of the table)
as JSON; POST /complaints inserts one row. Served by gunicorn as `bare_app:app` from bench/.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

URL = os.environ["COENFORCE_DATABASE_URL"]
# SQLAlchemy's defaults (a pool of connections on both databases), as the app has.
engine = create_engine(URL, connect_args={"timeout": 30}) if URL.startswith("sqlite") else create_engine(URL)
app = Flask(__name__)
AGENCY_ID = int(os.environ["BARE_AGENCY_ID"])


@app.get("/complaints")
def index():
    limit = min(int(request.args.get("limit", 50)), 200)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT * FROM complaints ORDER BY id LIMIT :limit"), {"limit": limit}).mappings().all()
    return jsonify({"items": [dict(row) for row in rows]})


@app.post("/complaints")
def create():
    body = request.get_json()
    now = datetime.now(timezone.utc)
    if URL.startswith("sqlite"):
        now = now.replace(tzinfo=None)
    with engine.begin() as conn:
        new_id = conn.execute(text(
            "INSERT INTO complaints (agency_id, filed_by_org_id, employer_name, employer_key, description, language, "
            "workers_affected, received_at, status, created_at) VALUES (:agency, :agency, :employer, :key, :description, "
            "'en', 1, :now, 'open', :now) RETURNING id"),
            {"agency": AGENCY_ID, "employer": body["employer_name"], "key": body["employer_name"].lower(),
             "description": body["description"],
             "now": now}).scalar_one()
    return jsonify({"id": new_id}), 201
