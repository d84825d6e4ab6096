"""Tools for developers, not the site: the demo film and its embedded worker (``manage.py demo``),
the scale seed (``seed_catalogue``) and the benchmarks (``bench_catalogue``, ``bench_jobs``,
``bench_review``). The top of the app's layers below config: it may use every area, none uses it."""
