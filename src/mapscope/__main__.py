from mapscope.cli import main

main()
