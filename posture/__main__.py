from posture.cli.main import main

raise SystemExit(main())
