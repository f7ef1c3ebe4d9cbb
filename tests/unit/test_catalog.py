"""The watch file: what loads, and every mistake reported as one line naming the file and field, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from monitor.catalog import load_catalog
from monitor.errors import ConfigError
from monitor.platforms import PLATFORMS
from tests.conftest import write_watches

URL = "https://pprdv.interieur.gouv.fr/booking/create/989"
REPO = Path(__file__).resolve().parents[2]


def watch(**fields: Any) -> dict[str, Any]:
    return {"id": "paris-remise-titre", "url": URL, **fields}


def test_the_documented_watch_loads(workdir: Path) -> None:
    path = write_watches(
        workdir / "w.yaml",
        {
            "watches": [
                watch(label="Remise de titre de séjour, Paris", platform="ezbooking", options={"planning": "990"})
            ]
        },
    )
    catalog = load_catalog(path)
    (loaded,) = catalog.watches
    assert (loaded.id, loaded.platform, loaded.url, loaded.title) == (
        "paris-remise-titre",
        "ezbooking",
        URL,
        "Remise de titre de séjour, Paris",
    )
    assert dict(loaded.options) == {"planning": "990"}
    assert catalog.watch("paris-remise-titre") is loaded


def test_platform_is_recognised_from_the_url_and_a_numeric_planning_becomes_text(workdir: Path) -> None:
    path = write_watches(workdir / "w.yaml", {"watches": [watch(options={"planning": 990})]})
    (loaded,) = load_catalog(path).watches
    assert loaded.platform == "ezbooking"
    assert dict(loaded.options) == {"planning": "990"}
    assert loaded.title == "paris-remise-titre"


def test_an_empty_file_is_an_empty_catalog(workdir: Path) -> None:
    path = workdir / "w.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert load_catalog(path).watches == ()


BAD_FILES: list[tuple[str, dict[str, Any], str]] = [
    ("top-level unknown key", {"watches": [watch()], "wathces": []}, "wathces: unknown key"),
    ("unknown key in a watch", {"watches": [watch(colour="red")]}, "watches[0].colour: unknown key"),
    ("unknown option", {"watches": [watch(options={"plan": "990"})]}, "watches[0].options.plan: unknown key"),
    ("option of the wrong type", {"watches": [watch(options={"planning": [1]})]}, "watches[0].options.planning:"),
    ("unknown schedule key", {"watches": [watch(schedule={"evry": "5m"})]}, "watches[0].schedule.evry: unknown key"),
    (
        "duplicate id",
        {"watches": [watch(), watch(url=URL + "0")]},
        "watches[1].id: duplicate id 'paris-remise-titre'",
    ),
    ("id with capitals", {"watches": [watch(id="Paris")]}, "watches[0].id:"),
    ("id with underscore", {"watches": [watch(id="paris_titre")]}, "watches[0].id:"),
    ("id with a double dash", {"watches": [watch(id="paris--titre")]}, "watches[0].id:"),
    ("id with a leading dash", {"watches": [watch(id="-paris")]}, "watches[0].id:"),
    ("missing url", {"watches": [{"id": "a"}]}, "watches[0].url: Field required"),
    ("url without scheme", {"watches": [watch(url="pprdv.interieur.gouv.fr/booking/create/989")]}, "watches[0].url:"),
    ("url with a typo in the scheme", {"watches": [watch(url="htps://pprdv.fr/booking/create/1")]}, "watches[0].url:"),
    ("url without host", {"watches": [watch(url="https:///booking/create/989")]}, "watches[0].url:"),
    ("url not text", {"watches": [watch(url=989)]}, "watches[0].url:"),
    ("url with a bad port", {"watches": [watch(url="https://pprdv.fr:99999/booking/create/1")]}, "watches[0].url:"),
    # a huge or non-finite duration used to pass validate, then crash status/run with an OverflowError
    ("absurd interval", {"watches": [watch(schedule={"every": "99999999999999999999h"})]}, "schedule.every: a dur"),
    ("infinite jitter", {"watches": [watch(schedule={"jitter": float("inf")})]}, "schedule.jitter: a duration"),
    ("nan interval", {"watches": [watch(schedule={"every": float("nan")})]}, "watches[0].schedule.every:"),
    ("default interval too long", {"defaults": {"schedule": {"every": "400d"}}}, "defaults.schedule.every:"),
    ("watches not a list", {"watches": {"id": "a"}}, "watches:"),
    ("settings unknown", {"settings": {"host_gap": 5}, "watches": []}, "settings.host_gap: unknown setting"),
    ("settings wrong type", {"settings": {"host_gap_seconds": "soon"}, "watches": []}, "settings.host_gap_seconds:"),
    (
        "notify names an unknown watch",
        {"watches": [watch()], "notify": [{"url": "json://localhost", "watches": ["lyon"]}]},
        "notify[0].watches: no watch with id 'lyon'",
    ),
]


def one_line_error(result: Any, *needles: str) -> str:
    """The single stderr line of a user error, after checking the contract: exit 2, one line, no traceback."""
    assert result.code == 2, result
    assert len(result.err_lines) == 1, result.err
    line: str = result.err_lines[0]
    assert line.startswith("rdv-monitor: ")
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in line
    return line


@pytest.mark.parametrize(("document", "field"), [(d, f) for _, d, f in BAD_FILES], ids=[n for n, _, _ in BAD_FILES])
def test_a_bad_watch_file_is_one_line_naming_file_and_field(
    document: dict[str, Any], field: str, env: dict[str, str], run_cli: Any
) -> None:
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), document)
    one_line_error(run_cli("validate"), env["RDV_MONITOR_CONFIG"] + ": ", field)


def test_an_unknown_platform_lists_the_known_ones(env: dict[str, str], run_cli: Any) -> None:
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": [watch(platform="doctolib")]})
    line = one_line_error(run_cli("validate"), env["RDV_MONITOR_CONFIG"], "watches[0].platform", "'doctolib'")
    assert all(name in line for name in PLATFORMS)


def test_an_unrecognisable_url_asks_for_a_platform(env: dict[str, str], run_cli: Any) -> None:
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": [watch(url="https://example.org/rendez-vous")]})
    line = one_line_error(run_cli("validate"), env["RDV_MONITOR_CONFIG"], "watches[0].platform", "recognise")
    assert all(name in line for name in PLATFORMS)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("watches:\n  - id: a\n    url: [unclosed\n", "line "),
        ("watches:\n\t- id: a\n", "line 2"),
        ("- just\n- a list\n", "expected a mapping"),
        ("just words", "expected a mapping"),
        ("watches:\n  - id: a\n    url: https://x.fr/booking/create/1\n   label: b\n", "check the indentation"),
        ("watches:\n  id: a\n", "watches: expected a list (items starting with '- ')"),
        (
            "watches:\n  - id: a\n    url: https://x.fr/booking/create/1\n    options: [1]\n",
            "watches[0].options: expected a mapping (key: value lines)",
        ),
    ],
    ids=["unclosed flow", "tab indent", "a list", "a scalar", "shifted key", "map for a list", "list for a map"],
)
def test_invalid_yaml_is_one_line_naming_the_file(text: str, needle: str, env: dict[str, str], run_cli: Any) -> None:
    Path(env["RDV_MONITOR_CONFIG"]).write_text(text, encoding="utf-8")
    one_line_error(run_cli("validate"), env["RDV_MONITOR_CONFIG"] + ":", needle)


def test_a_file_that_is_not_utf8_is_one_line(env: dict[str, str], run_cli: Any) -> None:
    Path(env["RDV_MONITOR_CONFIG"]).write_bytes(b"watches: [{id: caf\xe9}]\n")
    one_line_error(run_cli("validate"), env["RDV_MONITOR_CONFIG"], "cannot read")


def test_a_missing_file_is_one_line_naming_it(env: dict[str, str], run_cli: Any) -> None:
    one_line_error(run_cli("validate"), env["RDV_MONITOR_CONFIG"], "not found")


def test_validate_says_ok_and_runs_nothing(env: dict[str, str], workdir: Path, run_cli: Any) -> None:
    write_watches(
        Path(env["RDV_MONITOR_CONFIG"]),
        {"watches": [watch(), watch(id="evry-titre", url="https://www.essonne.gouv.fr/booking/create/15937")]},
    )
    result = run_cli("validate")
    assert (result.code, result.err) == (0, "")
    assert result.out.strip() == f"{env['RDV_MONITOR_CONFIG']}: OK, 2 watch(es), 0 notify target(s)"
    assert list((workdir / "data").iterdir()) == []  # no database, no evidence


def test_watches_lists_id_platform_title_and_url(env: dict[str, str], run_cli: Any) -> None:
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": [watch(label="Titre, Paris")]})
    result = run_cli("watches")
    assert result.code == 0
    assert result.out.splitlines() == [f"paris-remise-titre\tezbooking\tTitre, Paris\t{URL}"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("check", "lyon"), "no watch with id 'lyon' (watches: paris-remise-titre)"),
        (("history", "lyon"), "no watch with id 'lyon'"),
        (("check",), "check: the following arguments are required: watch"),
        (("history",), "history: the following arguments are required: watch"),
        (
            ("history", "paris-remise-titre", "--limit", "ten"),
            "--limit: expected a whole number of at least 1, got 'ten'",
        ),
        (
            ("history", "paris-remise-titre", "--limit", "-1"),
            "--limit: expected a whole number of at least 1, got '-1'",
        ),
        (("history", "paris-remise-titre", "--limit", "0"), "--limit: expected a whole number of at least 1, got '0'"),
        (("db", "downgrade"), "invalid choice: 'downgrade'"),
        (("explode",), "invalid choice: 'explode'"),
        ((), "the following arguments are required: command"),
        (("validate", "--colour"), "unrecognized arguments: --colour"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else None,
)
def test_bad_arguments_are_one_line(
    args: tuple[str, ...], needle: str, env: dict[str, str], workdir: Path, run_cli: Any
) -> None:
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": [watch()]})
    one_line_error(run_cli(*args), needle)
    assert not (workdir / "data" / "rdv-monitor.sqlite3").exists()


def test_catalog_watch_lookup_names_the_file(workdir: Path) -> None:
    path = write_watches(workdir / "w.yaml", {"watches": []})
    with pytest.raises(ConfigError, match=r"w\.yaml: no watch with id 'x' \(watches: none\)"):
        load_catalog(path).watch("x")


def test_the_real_console_script_prints_one_line_and_no_traceback(workdir: Path) -> None:
    """The installed `rdv-monitor` entry point, in its own process, as a user runs it."""
    config = write_watches(workdir / "w.yaml", {"watches": [watch(), watch()]})
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RDV_MONITOR_")}
    environ.update(RDV_MONITOR_CONFIG=str(config), RDV_MONITOR_DATA_DIR=str(workdir / "data"))
    script = Path(sys.executable).parent / "rdv-monitor"
    bad = subprocess.run([script, "validate"], env=environ, capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [f"rdv-monitor: {config}: watches[1].id: duplicate id 'paris-remise-titre'"]
    write_watches(config, {"watches": [watch()]})
    good = subprocess.run([script, "validate"], env=environ, capture_output=True, text=True, timeout=60, check=False)
    assert (good.returncode, good.stderr) == (0, "")
    assert "OK, 1 watch(es)" in good.stdout


def test_the_example_file_is_valid(workdir: Path) -> None:
    """`make run` copies rdv-monitor.example.yaml on first use: it must load as shipped."""
    catalog = load_catalog(REPO / "rdv-monitor.example.yaml")
    assert catalog.watches == ()
