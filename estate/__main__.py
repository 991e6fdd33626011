from estate.cli import main

raise SystemExit(main())
