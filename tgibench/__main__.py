from tgibench.cli import main

main()
