"""The folder's scan: session files only, by id, and a stamp that moves with any change."""

from __future__ import annotations

import os
from pathlib import Path

from claudecode.jsonl import Session, append, conversation, project_dir, write
from webui.claudecode.folder import scan, session_id_of


def test_session_files_are_listed_by_id_and_subagent_files_are_not(tmp_path: Path) -> None:
    a, b = Session(cwd="/work/one"), Session(cwd="/work/two")
    conversation(tmp_path, a)
    conversation(tmp_path, b)
    folder = project_dir(tmp_path, "/work/one")
    write(folder / "agent-1f2e3d4c.jsonl", a.user("Warmup", isSidechain=True))
    write(folder / a.session_id / "subagents" / "agent-77.jsonl", a.user("sub"))
    write(folder / "notes.txt", b"not a transcript\n")
    write(folder / "bad name!.jsonl", a.user("x"))
    (folder / "dir.jsonl").mkdir()
    found = scan(tmp_path / "projects")
    assert sorted(t.session_id for t in found.transcripts) == sorted([a.session_id, b.session_id])
    assert found.problems == ()
    for transcript in found.transcripts:
        assert Path(transcript.path).stat().st_ino == transcript.stat.ino


def test_a_missing_folder_is_no_sessions(tmp_path: Path) -> None:
    assert scan(tmp_path / "nowhere").transcripts == ()
    (tmp_path / "file").write_text("x")
    assert scan(tmp_path / "file").transcripts == ()


def test_the_stamp_moves_with_every_change_and_only_then(tmp_path: Path) -> None:
    s = Session()
    path = conversation(tmp_path, s)
    projects = tmp_path / "projects"
    first = scan(projects)
    assert scan(projects) == first and hash(scan(projects)) == hash(first)
    append(path, s.user("more"))
    grown = scan(projects)
    assert grown != first
    other = conversation(tmp_path, Session())
    added = scan(projects)
    assert added != grown
    other.unlink()
    assert scan(projects) == grown
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert scan(projects) != grown


def test_the_same_session_in_two_projects_is_listed_once_and_reported(tmp_path: Path) -> None:
    s = Session()
    conversation(tmp_path, s)
    copy = project_dir(tmp_path, "/zzz/copy") / f"{s.session_id}.jsonl"
    copy.write_bytes((project_dir(tmp_path, s.cwd) / f"{s.session_id}.jsonl").read_bytes())
    found = scan(tmp_path / "projects")
    assert [t.session_id for t in found.transcripts] == [s.session_id]
    assert found.transcripts[0].path.endswith(f"-home-ada-code-webui/{s.session_id}.jsonl")
    assert len(found.problems) == 1 and "twice" in found.problems[0]


def test_session_ids_from_file_names() -> None:
    assert session_id_of("0205f437-f816-4704-b6f3-9cf7b060888c.jsonl") == (
        "0205f437-f816-4704-b6f3-9cf7b060888c"
    )
    for name in ("agent-32335b9b.jsonl", "x.json", ".jsonl", "a b.jsonl", "../x.jsonl", "-a.jsonl"):
        assert session_id_of(name) is None
