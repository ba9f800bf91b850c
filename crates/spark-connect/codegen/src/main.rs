//! `spark-connect-codegen PROTO_ROOT OUT_DIR`: compiles `PROTO_ROOT/spark/connect/*.proto` into
//! `OUT_DIR/spark.connect.rs` (messages and the gRPC client, no server), with the protoc binary
//! shipped by the `protoc-bin-vendored` crate.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let (Some(proto_root), Some(out_dir)) = (args.next(), args.next()) else {
        return Err("usage: spark-connect-codegen PROTO_ROOT OUT_DIR".into());
    };
    let proto_root = PathBuf::from(proto_root);
    let mut protos: Vec<PathBuf> = std::fs::read_dir(proto_root.join("spark/connect"))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    protos.retain(|p| p.extension().is_some_and(|e| e == "proto"));
    protos.sort();
    // SAFETY of intent: this is a single-threaded build tool; prost-build reads PROTOC.
    std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .build_transport(false)
        .out_dir(out_dir)
        .compile_protos(&protos, &[proto_root])?;
    Ok(())
}
