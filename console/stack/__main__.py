import sys

from console.stack.supervisor import main

sys.exit(main())
