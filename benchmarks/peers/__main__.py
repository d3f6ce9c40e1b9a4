"""``python -m benchmarks.peers``: run the peer libraries side by side."""

from benchmarks.peers import main

if __name__ == "__main__":
    main()
