"""The figures of one bench run, as plain data for the report and the plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from webui.bench.load import LoadResult

if TYPE_CHECKING:
    from webui.bench.compression import CompressionResult
    from webui.bench.search import SearchBench

# Throughput rows: which server answered and what was asked.
WEBUI, WEBUI_2W, CEILING, NAIVE = "webui", "webui, 2 workers", "ceiling", "naive"
REVALIDATE, HIT, STREAMING = "304 revalidation", "200 hit", "200 hit, 1 stream overlaid"


@dataclass(frozen=True)
class Throughput:
    """One target over its rounds: the median round's figures, and totals of every round."""

    server: str
    scenario: str
    load: LoadResult  # the median round (by requests per second)
    cache: dict[str, int] | None  # webui's cache counters over every round
    rounds: tuple[float, ...]  # requests per second of each round
    requests: int
    errors: int
    statuses: dict[str, int]  # answers by status, where the load generator counted them


@dataclass(frozen=True)
class Cold:
    """Forced rebuilds: an external commit before every request."""

    requests: int
    seconds: float
    client_p50_ms: float | None
    client_p99_ms: float | None
    build_p50_ms: float | None  # the server's own Server-Timing build duration
    build_p99_ms: float | None
    health: dict[str, float | None]  # /api/health rebuild_time percentiles
    not_rebuilt: int  # answers whose X-Cache was not "miss"


@dataclass
class SizeResult:
    size: int
    rows: int  # the list's total (what one cache entry holds)
    page_bytes: int  # the 500-row page every throughput row returns
    cold: Cold | None = None
    runs: list[Throughput] = field(default_factory=list)
    stream_live: bool = False  # the overlaid stream was live before and after its run
    worker_tags: int = 0  # distinct ETags the 2 workers gave for the same unchanged list
    refresh_seconds: float | None = (
        None  # a rebuild after a commit while serving hits; None: not done
    )
    refresh_window: float = 0.0  # how long the refresh was given

    def find_run(self, server: str, scenario: str) -> Throughput | None:
        for run in self.runs:
            if run.server == server and run.scenario == scenario:
                return run
        return None

    def find(self, server: str, scenario: str) -> LoadResult | None:
        """The median round of ``server`` answering ``scenario``."""
        run = self.find_run(server, scenario)
        return None if run is None else run.load


@dataclass(frozen=True)
class ContentionCase:
    name: str
    pollers: int
    streaming: bool
    turns: int
    tokens: int
    token_rate: float | None  # tokens/s seen by an SSE client
    gap_p50_ms: float | None  # between token events
    gap_p99_ms: float | None
    lag_p50_ms: float | None  # token arrival behind the backend's schedule
    lag_p99_ms: float | None
    polls: int
    poll_p50_ms: float | None
    poll_p99_ms: float | None
    poll_errors: int
    poll_not_modified: int
    poll_rebuilds: int  # polls answered X-Cache: miss (they waited for a rebuild)
    poll_rebuild_p50_ms: float | None


@dataclass(frozen=True)
class Freshness:
    commits: int
    event_p50_ms: float | None
    event_p99_ms: float | None
    events_missed: int  # no event within the bound
    poll_p50_ms: float | None
    poll_p99_ms: float | None
    poll_misses: int  # an immediate poll that did not show the commit


@dataclass(frozen=True)
class Memory:
    size: int
    entries: int
    rows: int  # rows held over all entries
    rss_one: int  # after the first list
    rss_full: int  # after every key
    fds: int
    threads: int


@dataclass(frozen=True)
class ProfileTable:
    title: str
    calls: int  # requests or builds profiled
    lines: list[tuple[str, float, float]]  # function, own ms per call, cumulative ms per call
    ours: list[tuple[str, float, float]]  # webui's own functions, by cumulative time


@dataclass(frozen=True)
class EntryMemory:
    """What one cache entry retains, by allocation site (tracemalloc, in-process)."""

    size: int
    rows: int
    retained: int  # bytes
    row_json: int  # bytes of serialized rows, by length
    sites: list[tuple[str, int, int]]  # file:line, bytes, blocks


@dataclass
class MainResults:
    sizes: list[SizeResult] = field(default_factory=list)
    contention_size: int = 0
    contention: list[ContentionCase] = field(default_factory=list)
    freshness: Freshness | None = None
    memory: Memory | None = None
    etag_stable: bool | None = None  # the ETag survived a rebuild of an unchanged list
    entry_memory: EntryMemory | None = None
    profiles: list[ProfileTable] = field(default_factory=list)
    compression: CompressionResult | None = None
    compression_note: str = ""  # why compression was not measured
    search: SearchBench | None = None
    search_note: str = ""  # why search was not measured


@dataclass(frozen=True)
class SoakSample:
    seconds: float
    rss: int
    fds: int
    threads: int
    sockets: int = 0  # of ``fds``: sockets, which follow the clients, not the server

    @property
    def files(self) -> int:
        """Descriptors other than sockets (files, pipes, inotify): where leaks show."""
        return self.fds - self.sockets


@dataclass
class SoakResults:
    size: int
    seconds: float
    pollers: int
    requests: int = 0
    not_modified: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    poll_p50_ms: float | None = None
    poll_p99_ms: float | None = None
    turns: int = 0
    commits: int = 0
    samples: list[SoakSample] = field(default_factory=list)
    warmup: float = 0.0


# Churn cases: which server mode served the tabs.
INCREMENTAL, FULL_REBUILD, AGENT_ALONE = "incremental", "full rebuild", "agent alone"


@dataclass(frozen=True)
class CommitLatency:
    """The external writer's commits, ``BEGIN IMMEDIATE`` to the return of ``COMMIT``."""

    commits: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None


@dataclass(frozen=True)
class ChurnRun:
    """One churn case: the agent committing once a second while tabs poll every 2 s."""

    size: int
    journal: str  # the home's journal mode: "WAL" or "DELETE"
    mode: str  # INCREMENTAL, FULL_REBUILD or AGENT_ALONE (no server)
    views: int  # distinct filter sets the tabs poll
    tabs: int
    deltas: bool  # the tabs sent since=/have= from their previous answer
    seconds: float  # the measured window: the writer's run plus one poll interval
    commits: int
    commit: CommitLatency
    cpu_seconds: float  # the server's CPU over the window
    idle_cpu_rate: float | None  # its CPU seconds per second while the tabs polled, no commits
    polls: int
    poll_p50_ms: float | None
    poll_p99_ms: float | None
    not_modified: int
    errors: int
    wire_bytes: int  # response bodies as received (compressed where the server did)
    body_bytes: int  # the same bodies decoded
    delta_answers: int  # 200s marked "delta": true
    empty_deltas: int  # of those, deltas with nothing added, changed or removed
    full_answers: int  # other 200s
    versioned: bool  # the answers carried a "version" (deltas can be asked for)
    cache: dict[str, int] = field(default_factory=dict)  # /api/health cache counters, deltas
    index: dict[str, float] | None = None  # /api/health cache.index, deltas; None: absent
    index_now: dict[str, float] | None = None  # the same at the window's end (percentiles)
    # Polls by their X-Cache answer: (count, p50 ms, p99 ms); a miss waited for a refresh.
    by_cache: dict[str, tuple[int, float | None, float | None]] = field(default_factory=dict)

    @property
    def cpu_share(self) -> float | None:
        return self.cpu_seconds / self.seconds if self.seconds and self.tabs else None

    @property
    def cpu_ms_per_commit(self) -> float | None:
        return self.cpu_seconds * 1000 / self.commits if self.commits and self.tabs else None

    @property
    def cpu_ms_per_commit_above_idle(self) -> float | None:
        """CPU per commit less what the same tabs cost with nothing committed: the commit's
        own cost (its refresh, the changed answers) without the steady 304s."""
        if not self.commits or not self.tabs or self.idle_cpu_rate is None:
            return None
        extra = self.cpu_seconds - self.idle_cpu_rate * self.seconds
        return max(0.0, extra) * 1000 / self.commits

    @property
    def bytes_per_tab_change(self) -> float | None:
        if not self.commits or not self.tabs:
            return None
        return self.wire_bytes / self.tabs / self.commits


@dataclass(frozen=True)
class BareReads:
    """The change-detection reads alone, in-process: one read after each single commit."""

    size: int
    available: bool  # the change reader exists in this tree
    note: str  # why not, when not
    full_load_ms: float | None = None  # the first read: everything
    reads: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_p50_ms: float | None = None  # the reading thread's CPU time
    full_fallbacks: int = 0  # later reads that came back full


@dataclass(frozen=True)
class DeltaCost:
    """The same delta answered under saturating load, against the full page (``deltas``)."""

    supported: bool  # the server answered a delta
    delta_rps: float | None = None
    full_rps: float | None = None
    delta_bytes: int = 0  # on the wire, one answer
    full_bytes: int = 0


@dataclass
class ChurnResults:
    runs: list[ChurnRun] = field(default_factory=list)
    bare: list[BareReads] = field(default_factory=list)
    delete_size: int = 0
    delta_cost: DeltaCost | None = None

    def find(
        self, size: int, mode: str, *, journal: str = "WAL", views: int = 4, deltas: bool = False
    ) -> ChurnRun | None:
        for run in self.runs:
            key = (run.size, run.mode, run.journal, run.views, run.deltas)
            if key == (size, mode, journal, views if mode != AGENT_ALONE else 0, deltas):
                return run
        return None

    def bare_at(self, size: int) -> BareReads | None:
        return next((b for b in self.bare if b.size == size), None)
