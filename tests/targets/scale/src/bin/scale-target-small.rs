// scale-target-small: TG_SCALE_SMALL_TASKS task types (default 100); see src/lib.rs.
include!(concat!(env!("OUT_DIR"), "/scale-target-small.rs"));
