//! Every row of demo-api.md, its errors and headers, and the attacks a
//! hostile tester tries first, against both demo servers.

#![recursion_limit = "256"]

mod attacks;
mod cross;
mod misc;
mod sessions;
mod tokens;
