"""The benchmark: Breakwater against no breaker and the seed algorithm, on the embedded local stack.

``python -m breakwater.bench`` (``make bench``) plays every scenario of
:mod:`breakwater.bench.scenarios` against every policy of
:mod:`breakwater.bench.policies` and writes ``bench/results.md``,
``bench/results.json`` and one picture per scenario.
"""
