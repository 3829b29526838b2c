// Private storage networking (storageNetworkAccess = private): a virtual network with the Container Apps environment's
// infrastructure subnet and a subnet for private endpoints; private endpoints for the storage account's blob, queue
// and table services (the Functions host, the Durable task hub and the app use all three); and one private DNS zone
// per service, linked to the network, so that the account's usual names (st….blob.core.windows.net) resolve to the
// endpoints' private addresses inside it. The app's settings keep the public service URIs: name resolution, not
// configuration, routes them through the endpoints.

param location string
param tags object = {}

@description('Name of the virtual network.')
param name string

@description('Address space of the virtual network; the infrastructure subnet takes its first /23, the endpoints the /24 after it.')
param addressPrefix string

@description('The storage account that gets the private endpoints.')
param storageAccountName string

// A workload-profiles environment needs at least a /27, delegated to Microsoft.App/environments, and its size cannot be
// changed once the environment exists. Container Apps keeps 12 addresses of it, and each serverless GPU replica takes
// one address of its own: a /23 (495 usable) leaves room to raise maxReplicas later without a new environment.
var infrastructureSubnetPrefix = cidrSubnet(addressPrefix, 23, 0)
// The next free /24 after that /23 (the /23 covers the first two /24s).
var endpointSubnetPrefix = cidrSubnet(addressPrefix, 24, 2)

// blob: app containers, host leases and keys; queue: the Durable work queues and the inbox queue; table: the
// Durable instance and history tables.
var storageServices = ['blob', 'queue', 'table']

resource account 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource network 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: [addressPrefix] }
    subnets: [
      {
        name: 'container-apps'
        properties: {
          addressPrefix: infrastructureSubnetPrefix
          delegations: [
            {
              name: 'container-apps'
              properties: { serviceName: 'Microsoft.App/environments' }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: endpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for service in storageServices: {
    // privatelink.blob.core.windows.net in the public cloud; environment() keeps sovereign clouds right.
    name: 'privatelink.${service}.${environment().suffixes.storage}'
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (service, i) in storageServices: {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      virtualNetwork: { id: network.id }
      registrationEnabled: false
    }
  }
]

resource endpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for service in storageServices: {
    name: 'pe-${storageAccountName}-${service}'
    location: location
    tags: tags
    properties: {
      subnet: { id: network.properties.subnets[1].id }
      privateLinkServiceConnections: [
        {
          name: '${storageAccountName}-${service}'
          properties: {
            privateLinkServiceId: account.id
            groupIds: [service]
          }
        }
      ]
    }
  }
]

// The zone group writes each endpoint's A record into its zone and keeps it up to date.
resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (service, i) in storageServices: {
    parent: endpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: service
          properties: { privateDnsZoneId: zones[i].id }
        }
      ]
    }
  }
]

output id string = network.id
@description('The subnet the Container Apps environment is placed in.')
output infrastructureSubnetId string = network.properties.subnets[0].id
