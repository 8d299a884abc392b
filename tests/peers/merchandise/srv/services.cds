using merch from '../db/schema';

// One service, every user logged in; MasterDataReader reads, MasterDataWriter also writes.
@path: 'merchandise'
@requires: 'authenticated-user'
service Merchandise {
  entity Articles    as projection on merch.Articles;
  entity Customers   as projection on merch.Customers;
  entity Departments as projection on merch.Departments;
  // The articles again, as a service that pages only by offsets would serve them: twenty rows a page, the next
  // one by $skiptoken.
  @cds.query.limit: { default: 20, max: 20 }
  entity ArticlePages as projection on merch.Articles;
}

annotate Merchandise.Articles with @(restrict: [
  { grant: 'READ', to: 'MasterDataReader' },
  { grant: '*',    to: 'MasterDataWriter' }
]);
annotate Merchandise.ArticlePages with @(restrict: [
  { grant: 'READ', to: 'MasterDataReader' },
  { grant: '*',    to: 'MasterDataWriter' }
]);
annotate Merchandise.Customers with @(restrict: [
  { grant: 'READ', to: 'MasterDataReader' },
  { grant: '*',    to: 'MasterDataWriter' }
]);
annotate Merchandise.Departments with @(restrict: [
  { grant: 'READ', to: 'MasterDataReader' },
  { grant: '*',    to: 'MasterDataWriter' }
]);
