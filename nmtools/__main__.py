from nmtools.cli import main

main()
