from restoration.cli import main

raise SystemExit(main())
