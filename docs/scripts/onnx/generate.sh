#!/usr/bin/env bash
# Regenerates Sources/BSQONNX/onnx.pb.swift from onnx.proto (this folder), the
# schema shipped inside the onnx Python package 1.23.2 (onnx/onnx.proto, sha256
# 547214dd049486a4d5ecbae593e9c72d90b5e8d603944b722eff469e0b5a9cc9), with protoc
# from Debian (protobuf-compiler 3.21) and swift-protobuf 1.39.0's plugin:
#
#   git clone https://github.com/apple/swift-protobuf && cd swift-protobuf && git checkout 1.39.0
#   swift build -c release --product protoc-gen-swift
#   PLUGIN=$PWD/.build/release/protoc-gen-swift docs/scripts/onnx/generate.sh
#
# The generated file is committed: neither protoc nor the plugin is needed to build the kit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
: "${PLUGIN:?set PLUGIN to the path of protoc-gen-swift}"
cd "$here"
protoc --plugin=protoc-gen-swift="$PLUGIN" --swift_opt=Visibility=Public --swift_out="$repo/Sources/BSQONNX" onnx.proto
