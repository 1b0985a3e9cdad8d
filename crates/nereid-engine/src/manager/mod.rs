//! The query manager (see the module docs once written).
