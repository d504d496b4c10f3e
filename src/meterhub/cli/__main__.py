from meterhub.cli.main import main

main()
