//! Stories across the programs.
