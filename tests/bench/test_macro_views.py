"""The macro-view benchmark's own arithmetic: rows merged from slices, and the ratios it prints."""

from bench.macro_views import Row, Slice, _line, merged_row


def _slice(requests: int, seconds: float) -> Slice:
    return Slice(
        requests=requests,
        seconds=seconds,
        errors=0,
        error_kinds="",
        mean_ms=1.0,
        percentiles=[(50.0, 1.0), (99.0, 2.0)],
        consonance_reads=0,
        server_cpu=0.1,
        sandbox_cpu=0.0,
        syscalls=None,
        syscalls_by_name={},
    )


def _row(target: str, slices: list[Slice]) -> Row:
    return merged_row(target, "uncached", 1, slices, None, 5000, syscalls=False)


def test_a_merged_row_keeps_each_rounds_rate_in_order():
    row = _row("ours-connect", [_slice(100, 1.0), _slice(300, 2.0), _slice(90, 1.0)])

    assert row.round_rps == (100.0, 150.0, 90.0)
    assert row.rps == 490 / 4.0


def test_the_printed_line_gives_the_lowest_and_highest_round_ratio_against_the_peer():
    ours = _row("ours-connect", [_slice(100, 1.0), _slice(110, 1.0), _slice(90, 1.0)])
    peer = _row("ace", [_slice(100, 1.0), _slice(100, 1.0), _slice(100, 1.0)])

    line = _line(ours, [ours, peer])

    assert ours.round_ratios(peer) == [1.0, 1.1, 0.9]
    assert "| 1.00× | 0.90–1.10× |" in line  # the whole row's ratio, then its rounds' spread
    assert "| — | — |" in _line(peer, [ours, peer])


def test_rows_of_different_round_counts_give_no_round_ratios():
    ours = _row("ours-connect", [_slice(100, 1.0), _slice(110, 1.0)])
    peer = _row("ace", [_slice(100, 1.0), _slice(100, 1.0), _slice(100, 1.0)])

    assert ours.round_ratios(peer) == []
    assert "| — |" in _line(ours, [ours, peer])
