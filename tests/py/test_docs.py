"""The README's tables are copies of the project's own sources; these keep them honest."""

import csv
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_error_table_matches_catalogue():
    with (ROOT / "sql" / "errors.csv").open(newline="", encoding="utf-8") as f:
        catalogue = [(r["sqlstate"], r["name"], r["http_status"], r["message"]) for r in csv.DictReader(f)]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- errors-table:begin -->")[1].split("<!-- errors-table:end -->")[0]
    rows = [
        tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
        for line in block.strip().splitlines()[2:]
    ]
    assert rows == catalogue


def test_contract_messages_are_the_catalogue_defaults():
    with (ROOT / "sql" / "errors.csv").open(newline="", encoding="utf-8") as f:
        messages = {r["sqlstate"]: r["message"] for r in csv.DictReader(f)}
    assert messages["23P01"] == "This time slot conflicts with an existing appointment"
    assert messages["BK001"] == "Booking has been modified by another user"
    assert messages["55P03"] == "Could not acquire lock within timeout period"


def test_every_function_file_has_a_header_and_one_function():
    for path in sorted((ROOT / "sql" / "functions").glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("-- "), f"{path.name} has no header comment"
        functions = re.findall(r"CREATE OR REPLACE FUNCTION\s+([\w.]+)", text)
        assert len(functions) == 1, f"{path.name} defines {functions}"
        assert functions[0] == f"booking.{path.stem}", f"{path.name} defines {functions[0]}"
        assert "Raises" in text.split("CREATE OR REPLACE")[0], f"{path.name}: header does not say what it raises"
        assert "Locks" in text.split("CREATE OR REPLACE")[0], f"{path.name}: header does not say which locks it takes"


def test_readme_configuration_table_is_the_one_in_app_config():
    doc = (ROOT / "app" / "config.py").read_text(encoding="utf-8").split('"""')[1]
    table = [line for line in doc.splitlines() if line.startswith("|")]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- config-table:begin -->")[1].split("<!-- config-table:end -->")[0]
    assert block.strip().splitlines() == table


def test_readme_names_every_metric_the_service_exports():
    from app.metrics import METRIC_NAMES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [name for name in METRIC_NAMES if f"`{name}`" not in readme] == []


def test_the_openapi_schema_describes_what_the_handlers_and_functions_accept():
    from app.config import Settings
    from app.http import CREATE_FIELDS, MAX_SERVICE_LENGTH, create_app

    schema = create_app(Settings.from_env(database_url="postgresql://unused@/unused")).openapi_schema.to_schema()
    create = schema["paths"]["/appointments"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == CREATE_FIELDS
    assert body["properties"]["service"]["maxLength"] == MAX_SERVICE_LENGTH
    assert [p["name"] for p in create["parameters"]] == ["Idempotency-Key"]
    change = schema["paths"]["/appointments/{appointment_id}"]["patch"]
    keys = re.search(r"c_keys CONSTANT text\[\] := ARRAY\[(.*?)\];",
                     (ROOT / "sql" / "functions" / "update_appointment.sql").read_text(), re.S).group(1)
    assert set(change["requestBody"]["content"]["application/json"]["schema"]["properties"]) == \
        set(re.findall(r"'(\w+)'", keys))
    # Every refusal is a problem document, and the schema says so.
    assert "application/problem+json" in change["responses"]["412"]["content"]
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
