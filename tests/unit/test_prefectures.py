"""prefectures/*.yaml: every shipped file loads strictly; a watch can take a démarche as its defaults."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.catalog import load_catalog
from monitor.catalog.prefectures import load_prefecture, load_prefectures
from monitor.errors import ConfigError
from monitor.platforms import recognise
from tests.conftest import write_watches

SHIPPED = Path(__file__).resolve().parents[2] / "prefectures"
FILES = sorted(SHIPPED.glob("*.yaml"))
URL = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4418/"


def prefecture(**fields: Any) -> dict[str, Any]:
    demarche = {"id": "titre-sejour", "label": "Titre de séjour", "url": URL, "source": "field notes 3.2"}
    return {"department": "03", "name": "Préfecture de l'Allier", "demarches": [demarche], **fields}


def write(folder: Path, name: str, document: dict[str, Any]) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_there_are_shipped_files() -> None:
    assert FILES


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_shipped_file_loads_strictly(path: Path) -> None:
    demarches = load_prefecture(path)
    assert demarches
    for demarche in demarches:
        assert demarche.key.startswith(path.stem + "/")
        assert demarche.source.strip()
        assert recognise(demarche.url) in (demarche.platform, None)


def test_the_shipped_folder_loads_as_one_catalog_with_unique_keys() -> None:
    loaded = load_prefectures(SHIPPED)
    assert sum(len(load_prefecture(p)) for p in FILES) == len(loaded)


def test_paris_is_the_attested_ezbooking_form() -> None:
    paris = load_prefectures(SHIPPED)["75-paris/titre-sejour-guichet-990"]
    assert (paris.url, paris.platform, dict(paris.options)) == (
        "https://pprdv.interieur.gouv.fr/booking/create/989",
        "ezbooking",
        {"planning": "990"},
    )


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        (prefecture(region="Auvergne"), "region: unknown key"),
        (prefecture(department="03b"), "department: String should match pattern"),
        (prefecture(demarches=[]), "demarches: Tuple should have at least 1 item"),
        ({**prefecture(), "name": ""}, "name: String should have at least 1 character"),
        (prefecture(demarches=[{"id": "x", "label": "x", "url": URL}]), "demarches[0].source: Field required"),
        (prefecture(demarches=[{"id": "x", "label": "x", "source": "s"}]), "demarches[0].url: Field required"),
        (prefecture(demarches=[{"id": "x", "label": "x", "url": "www.x.fr", "source": "s"}]), "demarches[0].url:"),
        (prefecture(demarches=[{"id": "X Y", "label": "x", "url": URL, "source": "s"}]), "demarches[0].id:"),
        (
            prefecture(demarches=[{"id": "x", "label": "x", "url": "https://a.fr/rdv", "source": "s"}]),
            "demarches[0].platform: cannot recognise the platform from the URL",
        ),
        (
            prefecture(demarches=[{"id": "x", "label": "x", "url": URL, "source": "s", "platform": "rdvpref"}]),
            "demarches[0].platform: unknown platform 'rdvpref'",
        ),
        (
            prefecture(demarches=[{"id": "x", "label": "x", "url": URL, "source": "s", "options": {"a": 1}}]),
            "demarches[0].options.a: unknown key",
        ),
        (
            prefecture(
                demarches=[
                    {
                        "id": "x",
                        "label": "x",
                        "url": URL,
                        "source": "s",
                        "release_windows": [{"days": ["mon"], "start": "19:00", "end": "16:00", "every": "1m"}],
                    }
                ]
            ),
            "demarches[0].release_windows[0]: end must be after start",
        ),
    ],
)
def test_a_bad_file_is_one_line_naming_file_and_field(tmp_path: Path, document: dict[str, Any], needle: str) -> None:
    path = write(tmp_path, "03-allier.yaml", document)
    with pytest.raises(ConfigError) as caught:
        load_prefecture(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert needle in message
    assert "\n" not in message


def test_duplicate_demarche_ids_are_refused(tmp_path: Path) -> None:
    doc = prefecture()
    doc["demarches"] = doc["demarches"] * 2
    with pytest.raises(ConfigError, match=r"demarches\[1\]\.id: duplicate id 'titre-sejour'"):
        load_prefecture(write(tmp_path, "03-allier.yaml", doc))


def allier(tmp_path: Path) -> Path:
    folder = tmp_path / "prefectures"
    windows = [{"days": ["mon"], "start": "16:00", "end": "19:00", "every": "2m"}]
    document = prefecture()
    document["demarches"][0]["release_windows"] = windows
    write(folder, "03-allier.yaml", document)
    return folder


def test_a_watch_takes_its_demarche_as_defaults(workdir: Path, tmp_path: Path) -> None:
    folder = allier(tmp_path)
    path = write_watches(workdir / "w.yaml", {"watches": [{"id": "moulins", "prefecture": "03-allier/titre-sejour"}]})
    catalog = load_catalog(path, prefectures=folder)
    (watch,) = catalog.watches
    assert (watch.url, watch.platform, watch.label) == (URL, "rdv-prefecture", "Titre de séjour")
    (window,) = catalog.prefecture_schedules["moulins"].windows or ()
    assert (window.days, window.start, window.end, window.every) == (("mon",), time(16), time(19), 120.0)
    assert catalog.schedules["moulins"].windows is None  # the watch's own block stays its own


def test_the_watchs_own_values_win(workdir: Path, tmp_path: Path) -> None:
    folder = allier(tmp_path)
    own = {"id": "moulins", "prefecture": "03-allier/titre-sejour", "label": "Mon dossier", "url": URL + "cgu/"}
    (watch,) = load_catalog(write_watches(workdir / "w.yaml", {"watches": [own]}), prefectures=folder).watches
    assert (watch.url, watch.label, watch.platform) == (URL + "cgu/", "Mon dossier", "rdv-prefecture")


def test_an_unknown_demarche_lists_the_known_ones(workdir: Path, tmp_path: Path) -> None:
    folder = allier(tmp_path)
    path = write_watches(workdir / "w.yaml", {"watches": [{"id": "m", "prefecture": "03-allier/naturalisation"}]})
    with pytest.raises(ConfigError) as caught:
        load_catalog(path, prefectures=folder)
    assert str(caught.value) == (
        f"{path}: watches[0].prefecture: no démarche '03-allier/naturalisation' (known: 03-allier/titre-sejour)"
    )


def test_a_missing_prefectures_folder_is_named(workdir: Path, tmp_path: Path) -> None:
    path = write_watches(workdir / "w.yaml", {"watches": [{"id": "m", "prefecture": "03-allier/titre-sejour"}]})
    with pytest.raises(ConfigError, match="nowhere: no prefectures folder"):
        load_catalog(path, prefectures=tmp_path / "nowhere")


def test_without_any_prefecture_reference_the_folder_is_not_read(workdir: Path, tmp_path: Path) -> None:
    path = write_watches(workdir / "w.yaml", {"watches": [{"id": "m", "url": URL}]})
    catalog = load_catalog(path, prefectures=tmp_path / "nowhere")
    assert catalog.prefecture_schedules == {}


def test_a_watch_without_url_or_prefecture_is_refused(workdir: Path) -> None:
    path = write_watches(workdir / "w.yaml", {"watches": [{"id": "m"}]})
    with pytest.raises(ConfigError, match=r"watches\[0\]\.url: Field required \(or name a prefectures/ entry"):
        load_catalog(path)


def test_the_command_reads_the_prefectures_folder_named_by_the_environment(
    env: dict[str, str], workdir: Path, tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RDV_MONITOR_PREFECTURES_DIR", str(allier(tmp_path)))
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": [{"id": "m", "prefecture": "03-allier/titre-sejour"}]})
    listed = run_cli("watches")
    assert listed.code == 0, listed.err
    assert listed.out.split("\t")[1:] == ["rdv-prefecture", "Titre de séjour", URL + "\n"]
