"""The README's tables are copies of the project's own sources; these keep them honest."""

import csv
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_readmes_generated_blocks_are_what_their_sources_say():
    """The error catalogue, the configuration table and the status machine are copied into
    the README by scripts/update-readme.py from sql/errors.csv, app/config.py and
    sql/status_transitions.csv; run it after changing one of them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("update_readme", ROOT / "scripts" / "update-readme.py")
    update_readme = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(update_readme)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in update_readme.BLOCKS:
        assert f"<!-- {name}:begin -->" in readme, name
    assert update_readme.rewrite(readme) == readme, "README.md is stale: run .venv/bin/python scripts/update-readme.py"


def test_contract_messages_are_the_catalogue_defaults():
    with (ROOT / "sql" / "errors.csv").open(newline="", encoding="utf-8") as f:
        messages = {r["sqlstate"]: r["message"] for r in csv.DictReader(f)}
    assert messages["23P01"] == "This time slot conflicts with an existing appointment"
    assert messages["BK001"] == "Booking has been modified by another user"
    assert messages["55P03"] == "Could not acquire lock within timeout period"


def test_every_function_file_has_a_header_and_one_object():
    for path in sorted((ROOT / "sql" / "functions").glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("-- "), f"{path.name} has no header comment"
        functions = re.findall(r"CREATE OR REPLACE (?:FUNCTION|VIEW)\s+([\w.]+)", text)
        assert len(functions) == 1, f"{path.name} defines {functions}"
        assert functions[0] == f"booking.{path.stem}", f"{path.name} defines {functions[0]}"
        assert "Raises" in text.split("CREATE OR REPLACE")[0], f"{path.name}: header does not say what it raises"
        assert "Locks" in text.split("CREATE OR REPLACE")[0], f"{path.name}: header does not say which locks it takes"


def test_readme_names_every_metric_the_service_exports():
    from app.metrics import METRIC_NAMES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [name for name in METRIC_NAMES if f"`{name}`" not in readme] == []


def test_the_openapi_schema_is_made_from_the_types_the_handlers_and_functions_take():
    from app.config import Settings
    from app.web import create_app
    from app.web.bodies import AppointmentChanges, NewAppointment

    schema = create_app(Settings.from_env(database_url="postgresql://unused@/unused")).openapi_schema.to_schema()
    components = schema["components"]["schemas"]
    create = schema["paths"]["/appointments"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/NewAppointment")
    assert set(components["NewAppointment"]["properties"]) == set(NewAppointment.__struct_fields__)
    assert [p["name"] for p in create["parameters"]] == ["Idempotency-Key"]
    # The change body's fields are exactly the keys booking.apply_changes accepts.
    keys = re.search(
        r"c_keys CONSTANT text\[\] := ARRAY\[(.*?)\];",
        (ROOT / "sql" / "functions" / "apply_changes.sql").read_text(),
        re.S,
    ).group(1)
    assert set(AppointmentChanges.__struct_fields__) == set(re.findall(r"'(\w+)'", keys))
    change = schema["paths"]["/appointments/{appointment_id}"]["patch"]
    assert change["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/AppointmentChanges")
    # The answer is the record; every refusal is a problem document, and the schema says so.
    assert change["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Appointment")
    assert "application/problem+json" in change["responses"]["412"]["content"]
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
