from posture.cli import main

raise SystemExit(main())
