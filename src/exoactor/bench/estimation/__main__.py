"""`python -m exoactor.bench.estimation`: see the package doc."""

from exoactor.bench.estimation import main

raise SystemExit(main())
