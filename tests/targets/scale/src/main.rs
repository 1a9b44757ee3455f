// scale-target: TG_SCALE_TASKS task types (default 1000); see src/lib.rs.
include!(concat!(env!("OUT_DIR"), "/scale-target.rs"));
