from transit.cli import main

main()
