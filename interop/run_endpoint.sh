#!/bin/bash
# Entry point of the skiff interop image (see interop/Dockerfile).
set -e

# The simulator's routes (from the base image).
/setup.sh

if [ "$ROLE" == "client" ]; then
	# Start only once the simulator is up.
	/wait-for-it.sh sim:57832 -s -t 30
	exec skiff-endpoint $CLIENT_PARAMS
else
	exec skiff-endpoint $SERVER_PARAMS
fi
