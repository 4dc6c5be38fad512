//! Integration tests: each spawns the real server on 127.0.0.1 port 0 with a fresh data dir
//! and talks to it over HTTP.

mod accounts;
mod admin;
mod admin_pages;
mod alarms;
mod app;
mod at_rest;
mod audit_chain;
mod authz;
mod backup;
mod bad_input;
mod browser;
mod connections;
mod console;
mod csrf;
mod custody;
mod custody_browser;
mod custody_items;
mod desk;
mod emergency;
mod estate;
mod estate_pages;
mod gate;
mod goods;
mod keys;
mod kiosk_public;
mod layers;
mod monitor;
mod muster;
mod openapi;
mod ops;
mod paging;
mod platform;
