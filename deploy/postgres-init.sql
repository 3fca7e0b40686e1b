-- One database per service: no service can read another's tables.
CREATE DATABASE mall_catalog;
CREATE DATABASE mall_order;
CREATE DATABASE mall_payment;
CREATE DATABASE mall_crm;
CREATE DATABASE mall_logistics;
CREATE DATABASE mall_reports;
